"""Operations adapters: the HTTP server (health, readiness, metrics, the web app), encrypted secrets
and logging."""
