"""Publishing: targets, the gate's verdict, diff, outbox, delivery and transports."""
