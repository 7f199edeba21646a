# LanDing Console: one container, non-root, data on a volume. Migrations run before the server starts.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    LANDING_DATA_DIR=/data \
    LANDING_HOST=0.0.0.0 \
    LANDING_PORT=8080

WORKDIR /opt/landing
COPY pyproject.toml README.md ./
COPY app ./app
COPY migrations ./migrations
RUN pip install --no-cache-dir . \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin landing \
    && mkdir -p /data && chown landing:landing /data

USER landing
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status == 200 else 1)"
CMD ["sh", "-c", "landing migrate && exec landing serve"]
