"""Login throttling in Redis: failed password logins are counted per account and per client address
over a sliding-ish window (a counter that expires `window` seconds after its first failure). Once
either count reaches its limit, logins for that account / from that address answer 429 until the
window ends, whether or not the password is right, so guessing gains nothing."""
from __future__ import annotations

from hangar_common.errors import TooManyRequests


class LoginThrottle:
    def __init__(self, redis, *, window: int, per_account: int, per_address: int) -> None:
        self.redis, self.window = redis, window
        self.per_account, self.per_address = per_account, per_address

    @staticmethod
    def _keys(login: str, address: str) -> tuple[str, str]:
        return f"auth:login-fail:account:{login.lower()}", f"auth:login-fail:address:{address}"

    async def check(self, login: str, address: str) -> None:
        account_key, address_key = self._keys(login, address)
        account, by_address = await self.redis.mget(account_key, address_key)
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
            await pipe.execute()

    async def succeeded(self, login: str) -> None:
        await self.redis.delete(self._keys(login, "")[0])
