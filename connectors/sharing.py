"""A provider's rate limit shared by every process and instance, through Redis.

`connectors.pacing` spaces one process's calls; with several workers or
instances each would spend the whole limit. `SharedPace` keeps one schedule
per provider in Redis: every call reserves the next start slot in one atomic
Lua script (GCRA with reservation: the slot is the later of now and the
theoretical arrival time, which then moves one interval on), and waits until
its slot. The time is Redis's own, so the instances' clocks need not agree.

Calls still take their fair turn and concurrency slot in their process first
(`connectors.pacing`, unpaced then); only the start is shared. When Redis does
not answer, each process paces itself at the whole limit divided by the
processes it knows of, and says so in the log, until Redis answers again.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from connectors.settings import RateLimit

logger = logging.getLogger("contact_gateway.pacing")

# KEYS[1]: the provider's schedule; ARGV[1]: microseconds between two starts.
# Returns how many microseconds the caller waits for its slot.
RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local start = math.max(tat, now)
redis.call('SET', KEYS[1], string.format('%d', start + interval),
           'PX', math.ceil((start + interval - now) / 1000) + 1000)
return start - now
"""
# Pacing margin, as connectors.pacing: a request delayed on its way can otherwise land
# in the same provider window as the next.
MARGIN = 1.05
WARN_EVERY = 60.0


class SharedPace:
    """Start slots for one provider, shared through Redis.

    Args:
        redis: an asyncio Redis client.
        key: the provider's schedule key (with the deployment's prefix).
        rate_limit: the provider's limit for the whole deployment.
        fallback_share: this process's share when Redis does not answer (1/N).
    """

    def __init__(
        self, redis: Any, key: str, rate_limit: RateLimit, *, fallback_share: float = 1.0
    ) -> None:
        from redis.exceptions import RedisError  # imported with Redis configured only

        self.redis = redis
        self._errors = (RedisError, OSError)
        self.key = key
        self.interval = rate_limit.interval * MARGIN
        self._script = redis.register_script(RESERVE)
        self._fallback_interval = self.interval / max(fallback_share, 1e-6)
        self._fallback_next = 0.0
        self._warned = -math.inf  # the first fallback is said at once

    async def reserve(self) -> float:
        """Seconds to wait before this call may start."""
        try:
            waited = await self._script(keys=[self.key], args=[int(self.interval * 1_000_000)])
        except self._errors as exc:
            return self._local(exc)
        return max(0.0, int(waited) / 1_000_000)

    def _local(self, exc: Exception) -> float:
        now = time.monotonic()
        if now - self._warned > WARN_EVERY:
            self._warned = now
            logger.warning(
                "event=shared_pacing_unavailable key=%s error=%s pacing=local",
                self.key,
                type(exc).__name__,
            )
        start = max(now, self._fallback_next)
        self._fallback_next = start + self._fallback_interval
        return start - now
