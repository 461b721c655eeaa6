# The image of the worker and the partner sandbox (docker-compose.yml builds it once for both).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# .dockerignore keeps the venv, the data folder, tests and benchmarks out of the context.
COPY . .
RUN pip install . \
    && useradd --system --no-create-home --uid 10001 app
USER app

CMD ["python", "worker.py"]
