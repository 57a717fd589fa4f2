"""SQLAlchemy store: models, repositories, unit of work, migrations."""
