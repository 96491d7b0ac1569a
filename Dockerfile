# citygov production image: gunicorn for web; the same image runs Celery worker and beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=citygov.settings.prod \
    CITYGOV_VAR_DIR=/var/lib/citygov

WORKDIR /app
COPY requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock

COPY . .
# collectstatic needs settings but no database; a throwaway key satisfies the prod check.
RUN SECRET_KEY=build-only-build-only-build-only-build-only-build-only \
    ALLOWED_HOSTS=build python manage.py collectstatic --no-input -v 0 \
 && useradd --system --uid 10001 --user-group --home /var/lib/citygov citygov \
 && mkdir -p /var/lib/citygov/media /var/lib/citygov/beat && chown -R citygov /var/lib/citygov

# By number, not name: the user is then known without the image's /etc/passwd (hadolint DL3066),
# and the media volume's files belong to 10001 whoever mounts it.
USER 10001:10001
EXPOSE 8000
CMD ["gunicorn", "citygov.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "4", "--access-logfile", "-"]
