"""Optional integrations with third-party services, each behind its own extra.

``ayolinx_async.contrib.redis`` (extra ``[redis]``) shares Ayolinx tokens, callback dedupe and
the merchant's issued tokens between processes and hosts.
"""

__all__: list[str] = []  # each extra is its own module: ayolinx_async.contrib.redis
