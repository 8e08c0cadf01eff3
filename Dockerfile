FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
RUN pip install --no-cache-dir .
COPY . .
# Production storage (hashed names + manifest) needs DEBUG off; the key and host are placeholders for this step only.
RUN DEBUG=false SECRET_KEY=collectstatic-only ALLOWED_HOSTS=localhost python manage.py collectstatic --noinput
# The Italian and Bulgarian catalogues (.mo files are build output, not in the repository).
RUN DEBUG=false SECRET_KEY=compile-only ALLOWED_HOSTS=localhost python manage.py compile_translations
EXPOSE 8000
CMD ["gunicorn", "churnapp.wsgi", "-c", "gunicorn.conf.py", "--bind", "0.0.0.0:8000"]
