"""Login throttling in Redis: failed password logins are counted per account and per client address
over a sliding-ish window (a counter that expires `window` seconds after its first failure). Once
either count reaches its limit, logins for that account / from that address answer 429 until the
window ends, whether or not the password is right, so guessing gains nothing.

Without Redis there are no counters: HANGAR_LOGIN_THROTTLE_WITHOUT_REDIS decides. "open" (the
default) lets password logins through unthrottled for the outage (each guess still costs an argon2
verification, and access tokens never go through here); "closed" answers them 503 with Retry-After
until Redis is back."""
from __future__ import annotations

from hangar_common import redis_client
from hangar_common.errors import TooManyRequests, Unavailable


class LoginThrottle:
    def __init__(self, redis, *, window: int, per_account: int, per_address: int,
                 fail_open: bool = True) -> None:
        self.redis, self.window = redis, window
        self.per_account, self.per_address = per_account, per_address
        self.fail_open = fail_open

    @staticmethod
    def _keys(login: str, address: str) -> tuple[str, str]:
        return f"auth:login-fail:account:{login.lower()}", f"auth:login-fail:address:{address}"

    async def check(self, login: str, address: str) -> None:
        account_key, address_key = self._keys(login, address)
        try:
            account, by_address = await self.redis.mget(account_key, address_key)
        except redis_client.DOWN:
            if not self.fail_open:
                raise Unavailable("Password logins are paused while the login throttle is unavailable; "
                                  "retry shortly (access tokens keep working)") from None
            account = by_address = None
        if int(account or 0) >= self.per_account:
            raise TooManyRequests("Too many failed logins for this account; try again later",
                                  code="LoginThrottled")
        if address and int(by_address or 0) >= self.per_address:
            raise TooManyRequests("Too many failed logins from this address; try again later",
                                  code="LoginThrottled")

    async def failed(self, login: str, address: str) -> None:
        keys = self._keys(login, address)
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in keys if address else keys[:1]:
                pipe.incr(key)
                pipe.expire(key, self.window, nx=True)
            await redis_client.optional(pipe.execute(), None, "login throttle count")

    async def succeeded(self, login: str) -> None:
        await redis_client.optional(self.redis.delete(self._keys(login, "")[0]), None, "login throttle reset")
