# syntax=docker/dockerfile:1
# One image for every Darkroom process: the command picks it (the console scripts of `make run`).
#   darkroom-gateway | darkroom-relay | darkroom-projector | darkroom-notifier
#   darkroom-image-worker | darkroom-upscale-worker | darkroom-video-worker
#   darkroom-migrate | darkroom-topics | darkroom-dead-letters | darkroom-token
# Configured by environment only (README, "Configuration"); see docs/deploy.md.
ARG PYTHON_IMAGE=python:3.11.11-slim-bookworm

# Build: wheels of Darkroom's packages and of every dependency, at the versions of constraints.txt.
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY constraints.txt ./
COPY libs ./libs
COPY services ./services
RUN pip wheel --wheel-dir /wheels --constraint constraints.txt \
        ./libs/contracts ./libs/jobs ./libs/media ./libs/runtime \
        ./services/gateway ./services/notifier \
        ./services/image-worker ./services/upscale-worker ./services/video-worker

# Run: a slim Python with those wheels only: no compilers, no sources, a user without rights.
FROM ${PYTHON_IMAGE}
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="darkroom" \
      org.opencontainers.image.description="AI media generation as background jobs over Kafka: gateway, relay, projector, workers, notifier" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="https://github.com/darkroom-dev/darkroom"
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    LOG_FORMAT=json \
    GATEWAY_HOST=0.0.0.0 \
    NOTIFIER_HOST=0.0.0.0 \
    PROJECTOR_HOST=0.0.0.0 \
    IMAGE_WORKER_HOST=0.0.0.0 \
    UPSCALE_WORKER_HOST=0.0.0.0 \
    VIDEO_WORKER_HOST=0.0.0.0
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-index --find-links /wheels /wheels/*.whl \
    && useradd --system --uid 10001 --user-group --home-dir /app --create-home darkroom
WORKDIR /app
USER 10001:10001
EXPOSE 8000 8001 8010 8011 8012 8013
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-m", "darkroom.runtime.healthcheck"]
CMD ["darkroom-gateway"]
