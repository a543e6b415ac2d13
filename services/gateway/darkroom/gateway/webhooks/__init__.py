"""Webhooks: the accepted events of jobs that asked for them, POSTed to their receivers,
signed (Standard Webhooks) and retried until answered (`darkroom-webhooks`)."""
