from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from routers._context import caller, conn
from snowwatch.models.users import UserOut
from snowwatch.repositories import users
from snowwatch.routes import path_of

router = Router()


@router.get(path_of("me"), summary="The caller, as provisioned from the identity provider's claims")
def me() -> UserOut:
    return UserOut.model_validate(users.get_user(conn(router), caller(router).user_id))
