# Production image: gunicorn serves the app; the same image runs `manage.py runworker`.
FROM python:3.12-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
RUN useradd --create-home --uid 10001 ats
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
# collectstatic needs settings but no database or real secret.
RUN DEBUG=true SECRET_KEY=build-only python manage.py collectstatic --noinput --verbosity 0 \
    && rm -f var/dev-secret-key && chown -R ats:ats /app/var
USER ats

EXPOSE 8000
CMD ["gunicorn", "ats.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "4", \
     "--graceful-timeout", "30"]
