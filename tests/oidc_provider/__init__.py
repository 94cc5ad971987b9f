"""A real OpenID Connect provider (django-oauth-toolkit) for the single sign-on tests. It runs
in its own process with its own settings and database: Levelset talks to it over HTTP as it
would to a company's identity provider. Nothing here is imported by Levelset itself."""
