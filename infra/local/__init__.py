"""The local stack: moto server as the embedded AWS, a gateway, and an event worker."""
