"""Helpers the tests share: the journey through the test client, the real servers (the development
server, gunicorn, the production stack behind nginx), throwaway PostgreSQL clusters, Redis, an SMTP
server, Chromium, the hypothesis strategies for answers, hostile text for the fuzz tests, forged
posts and stored rows read detached."""
