"""The Overture web service: accounts, a durable job queue, a worker and a track library.

An edge over the song engine, never a part of it: the engine (everything outside this package
and ``overture.cli``) does not import it. Each domain is a sub-package with its service (the
logic) and routes (HTTP to service calls, nothing more); ``overture.app.web.create_app`` puts
the routes together and ``overture.app.jobs.worker`` runs the queue.
"""
