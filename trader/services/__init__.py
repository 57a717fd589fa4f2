"""Application services: async orchestration over ports."""
