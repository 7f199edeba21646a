# LanDing Console: one container, non-root, data on a volume. Migrations run before the server starts.
#
# Layer order is for the build cache: the pinned dependencies (requirements.lock, regenerated with pip-compile when
# pyproject.toml changes) are installed before any source is copied, so a code change rebuilds only the last layers.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TZ=Asia/Shanghai \
    LANDING_DATA_DIR=/data \
    LANDING_HOST=0.0.0.0 \
    LANDING_PORT=8080

WORKDIR /opt/landing
COPY requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock

COPY pyproject.toml README.md ./
COPY migrations ./migrations
COPY app ./app
RUN pip install --no-cache-dir --no-deps . \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin landing \
    && mkdir -p /data && chown landing:landing /data

USER landing
VOLUME ["/data"]
EXPOSE 8080
# The port comes from the environment, so a container started with another LANDING_PORT stays healthy.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s CMD python -c "import os,sys,urllib.request; port=os.environ.get('LANDING_PORT','8080'); sys.exit(0 if urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=4).status == 200 else 1)"
CMD ["sh", "-c", "landing migrate && exec landing serve"]
