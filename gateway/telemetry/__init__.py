"""What the gateway tells about itself: Prometheus metrics (`metrics`) and
OpenTelemetry traces (`tracing`). Imported by every layer, it imports only the
domain."""
