# Inside-sales Telegram bot. Build: docker build -t inside-sales-bot .
# Run: docker run -e TELEGRAM_BOT_TOKEN=... -v bot-data:/data inside-sales-bot
FROM python:3.11.14-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    CONTENT_DIR=/app/content \
    DATA_DIR=/data

# Fixed ids so bind-mounted /data can be chowned to match on the host.
RUN groupadd --system --gid 10001 bot \
    && useradd --system --uid 10001 --gid bot --home-dir /app --no-create-home --shell /usr/sbin/nologin bot \
    && mkdir -p /app /data \
    && chown bot:bot /data

# Build from a scratch directory and delete it, so /app never shadows the installed package.
COPY pyproject.toml README* /tmp/build/
COPY bot/ /tmp/build/bot/
RUN pip install --no-cache-dir /tmp/build \
    && rm -rf /tmp/build

WORKDIR /app
COPY content/ /app/content/

USER 10001:10001
# Declared after the copy so a fresh named volume starts with the shipped articles.
VOLUME ["/app/content", "/data"]

# Valid in polling and webhook mode alike: loads and validates the articles, touches no network.
# sh -c so a run-time CONTENT_DIR override applies; "|| exit 1" because Docker reserves other codes.
HEALTHCHECK --interval=60s --timeout=15s --start-period=30s --retries=3 \
    CMD ["sh", "-c", "python -m bot check-content \"$CONTENT_DIR\" || exit 1"]

ENTRYPOINT ["python", "-m", "bot"]
CMD ["run"]
