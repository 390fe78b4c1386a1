"""The outbox table's own code: writing messages inside a use case's transaction, and its depth.

It sits below the services, which queue their e-mails through it; delivery (`admit.mail`) sits above
them and reads the services' views to compose what it sends.
"""
