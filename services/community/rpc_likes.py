"""Likes of community.proto."""
from __future__ import annotations

from hangar_common.callers import writer_id
from hangar_common.grpcio import call
from hangar_protos import auth_pb2
from hangar_protos import community_pb2 as pb

from . import likes
from .rpc_base import ServicerBase
from .webhooks import iso


class LikesRpc(ServicerBase):

    async def Like(self, request, context):
        writer_id(request.principal)
        me = await call(self.ctx.auth.GetAccount, auth_pb2.NameRequest(name=request.principal.username))
        count = await likes.set_like(self.ctx, request.principal, request.repo, liked=True, fullname=me.fullname)
        return pb.LikeResponse(likes=count)

    async def Unlike(self, request, context):
        writer_id(request.principal)
        return pb.LikeResponse(likes=await likes.set_like(self.ctx, request.principal, request.repo, liked=False))

    async def ListUserLikes(self, request, context):
        name, found = await likes.user_likes(self.ctx, request.principal, request.username)
        return pb.ListUserLikesResponse(username=name, likes=[
            pb.LikedRepo(repo=info.facts.repo, liked_at=iso(at)) for info, at in found])

    async def ListLikers(self, request, context):
        rows = await likes.likers(self.ctx, request.repo)
        return pb.ListLikersResponse(likers=[
            pb.Liker(username=r["username"], fullname=r["fullname"], liked_at=iso(r["created_at"])) for r in rows])
