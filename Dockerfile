# syntax=docker/dockerfile:1
# Stage 1: build the wheel.
FROM python:3.11-slim AS build
WORKDIR /src
RUN pip install --no-cache-dir build
COPY pyproject.toml README.md ./
COPY core ./core
COPY faq ./faq
COPY adapters ./adapters
COPY bot ./bot
RUN python -m build --wheel --outdir /dist

# Stage 2: install it into a slim image and run as a non-root user.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    HRBOT_DATABASE_URL=sqlite:////data/hrbot.db \
    HRBOT_DOCUMENTS_DIR=/data/documents
COPY --from=build /dist/*.whl /tmp/
RUN pip install --no-cache-dir "$(ls /tmp/*.whl)[postgres]" && rm /tmp/*.whl \
    && useradd --create-home --uid 10001 hrbot && mkdir -p /data && chown hrbot /data
USER hrbot
WORKDIR /home/hrbot
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4); sys.exit(0)" || exit 1
ENTRYPOINT ["hrbot"]
CMD ["serve", "--host", "0.0.0.0"]
