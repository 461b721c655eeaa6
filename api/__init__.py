"""The HTTP front door: TMF621 Trouble Ticket v5 over the engine, for back-office systems that are not Python.

Why FastAPI (on Starlette, served by uvicorn):

- pydantic v2 is its native model layer, and the engine's domain, events and messages are pydantic v2
  already: request and response bodies validate with the same library and the same error texts, and the
  OpenAPI document is generated from the very models the handlers use, so it cannot drift from the code.
- OpenAPI 3.1 is built in (`/openapi.json`, Swagger UI at `/docs`), which the TMF conformance test and the
  schemathesis run read directly from the app.
- Dependencies (`Depends`/`Security`) express "a verified bearer token with this role" once, declare the
  bearer scheme in the OpenAPI document, and are checked per route, so no route can forget auth.
- It is the most used ASGI framework with OpenAPI built in, well kept, and `httpx.ASGITransport` tests
  it in-process without a socket. Litestar was the alternative; its msgspec-first models would have meant a
  second model layer beside pydantic.

Layout: `app.create_app` builds the application; `security` checks bearer tokens (401/403 as TMF error
bodies, `errors`); `tickets` and `tasks` are the TMF621 routes; `mapping` turns a case into a TMF ticket.
Other parts (the hub, the console) mount their own routers with `app.include_router`.
"""
