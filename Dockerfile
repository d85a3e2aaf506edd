FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml ./
COPY compapp compapp
COPY accounts accounts
COPY payouts payouts
RUN pip install --no-cache-dir .
COPY . .
RUN SECRET_KEY=build-only COMPAPP_ENV=production python manage.py collectstatic --noinput
EXPOSE 8000
CMD ["gunicorn", "compapp.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3"]
