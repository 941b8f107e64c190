"""Help center: per-tenant knowledge-base articles, the portal's one search, suggestions and deflection."""
