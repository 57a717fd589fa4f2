"""Application services: what front ends call (queries, reports, control, charts, backtests, market
data, audit, portfolio, news) and the DTOs they return. Async orchestration over ports."""
