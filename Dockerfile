# mapgate HTTP service: `mapgate serve` on uvicorn, as a non-root user.
#   docker build -t mapgate .
#   docker run -p 8000:8000 -e MAPGATE_KEYS='[{"name":"ci","role":"submitter","sha256":"<hex>"}]' mapgate
# rasterio and pyogrio wheels bundle GDAL, so the slim image needs no system packages.

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
WORKDIR /app
COPY pyproject.toml setup.py MANIFEST.in README.md ./
COPY compliance ./compliance
COPY api ./api
COPY rules ./rules
COPY sample_maps ./sample_maps
# Editable, so the library finds rules/ beside compliance/ in /app; the service extra
# brings the web stack a plain install leaves out.
# An editable install compiles none of the project's modules, and the service's user may not
# write /app: compile them here, as pip does for a wheel.
RUN /opt/venv/bin/pip install --no-cache-dir -e '/app[service]' \
    && /opt/venv/bin/python -m compileall -q /app/compliance /app/api

FROM python:3.11-slim-bookworm
RUN groupadd --system --gid 10001 mapgate \
    && useradd --system --uid 10001 --gid 10001 --create-home --home-dir /var/lib/mapgate \
        --shell /usr/sbin/nologin mapgate
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    MAPGATE_HOST=0.0.0.0 \
    MAPGATE_PORT=8000 \
    MAPGATE_STORE_URL=sqlite:////var/lib/mapgate/audit.sqlite
USER 10001:10001
WORKDIR /var/lib/mapgate
VOLUME ["/var/lib/mapgate"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; u.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('MAPGATE_PORT', '8000'), timeout=4)"]
CMD ["mapgate", "serve"]
