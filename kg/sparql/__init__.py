"""The SPARQL engine room: the guard that refuses dangerous queries (`guard`), the messages
between the service and its workers (`messages`), the worker-process pool that enforces time
limits (`pool`) and the executor that runs one query inside a worker and serialises it
(`executor`)."""
