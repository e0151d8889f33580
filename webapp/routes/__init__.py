"""Blueprints: thin routes that parse, authorise, call one service and shape the reply."""
