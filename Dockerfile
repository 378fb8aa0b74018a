# Tenang: one app replica. Build: docker build -t tenang .
# Run:   docker run -p 8501:8501 -e DATABASE_URL=postgresql+psycopg://USER:PASSWORD@HOST:5432/tenang tenang
# See docs/deployment.md for several replicas behind a load balancer.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STREAMLIT_SERVER_HEADLESS=true \
    STREAMLIT_BROWSER_GATHER_USAGE_STATS=false

# An unprivileged user runs the app; the code stays owned by root (read-only to the app).
RUN groupadd --system tenang \
 && useradd --system --gid tenang --home-dir /home/tenang --create-home --shell /usr/sbin/nologin tenang

WORKDIR /app
# Dependencies first, so a code change does not reinstall them (psycopg[binary] brings libpq).
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY . .
# data/ only matters for the default SQLite database (one replica); teams set DATABASE_URL.
RUN mkdir -p /app/data && chown tenang:tenang /app/data

USER tenang
EXPOSE 8501

# Streamlit's own health endpoint answers "ok" once the server is up (python: the slim image has
# no curl). The schema is migrated when the app first opens the database, not here.
HEALTHCHECK --interval=30s --timeout=5s --start-period=40s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; r = urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4); sys.exit(0 if r.status == 200 else 1)"]

CMD ["streamlit", "run", "app.py", "--server.address", "0.0.0.0", "--server.port", "8501"]
