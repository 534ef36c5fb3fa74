"""The protocol-independent broker model: queues, exchanges, bindings and the registry."""
