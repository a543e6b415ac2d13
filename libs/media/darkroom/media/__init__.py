"""Media helpers shared by the gateway and the workers."""
