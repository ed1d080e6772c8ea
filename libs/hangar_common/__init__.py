"""Shared library of the Hangar services: config, logging, database, gRPC helpers, error types."""
