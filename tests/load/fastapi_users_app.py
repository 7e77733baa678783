"""The fastapi-users peer of the load benchmark.

The library's documented SQLAlchemy + asyncpg + JWT setup (the "full
example" of its docs), with one extra column, ``display_name``, so that
``PATCH /users/me`` does the same kind of write as Usher's
``POST /user/update``. The only tuning is the pool: 16 connections per
worker, no overflow (the spec's fair comparison); uvicorn runs it with 2
workers. Settings: ``FASTAPI_DATABASE_URL`` (``postgresql+asyncpg://…``) and
``FASTAPI_JWT_SECRET``.
"""

import os
import uuid
from typing import AsyncGenerator, Optional

from fastapi import Depends, FastAPI
from fastapi_users import BaseUserManager, FastAPIUsers, UUIDIDMixin, schemas
from fastapi_users.authentication import AuthenticationBackend, BearerTransport, JWTStrategy
from fastapi_users.db import SQLAlchemyBaseUserTableUUID, SQLAlchemyUserDatabase
from sqlalchemy import String
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

DATABASE_URL = os.environ["FASTAPI_DATABASE_URL"]
SECRET = os.environ["FASTAPI_JWT_SECRET"]


class Base(DeclarativeBase):
    pass


class User(SQLAlchemyBaseUserTableUUID, Base):
    display_name: Mapped[Optional[str]] = mapped_column(String(100), nullable=True)


class UserRead(schemas.BaseUser[uuid.UUID]):
    display_name: Optional[str] = None


class UserCreate(schemas.BaseUserCreate):
    display_name: Optional[str] = None


class UserUpdate(schemas.BaseUserUpdate):
    display_name: Optional[str] = None


engine = create_async_engine(DATABASE_URL, pool_size=16, max_overflow=0)
async_session_maker = async_sessionmaker(engine, expire_on_commit=False)


async def create_db_and_tables() -> None:
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)


async def get_async_session() -> AsyncGenerator[AsyncSession, None]:
    async with async_session_maker() as session:
        yield session


async def get_user_db(session: AsyncSession = Depends(get_async_session)):
    yield SQLAlchemyUserDatabase(session, User)


class UserManager(UUIDIDMixin, BaseUserManager[User, uuid.UUID]):
    reset_password_token_secret = SECRET
    verification_token_secret = SECRET


async def get_user_manager(user_db: SQLAlchemyUserDatabase = Depends(get_user_db)):
    yield UserManager(user_db)


bearer_transport = BearerTransport(tokenUrl="auth/jwt/login")


def get_jwt_strategy() -> JWTStrategy:
    return JWTStrategy(secret=SECRET, lifetime_seconds=3600)


auth_backend = AuthenticationBackend(name="jwt", transport=bearer_transport, get_strategy=get_jwt_strategy)
fastapi_users = FastAPIUsers[User, uuid.UUID](get_user_manager, [auth_backend])

app = FastAPI()
app.include_router(fastapi_users.get_auth_router(auth_backend), prefix="/auth/jwt", tags=["auth"])
app.include_router(fastapi_users.get_users_router(UserRead, UserUpdate), prefix="/users", tags=["users"])


@app.get("/healthz")
async def healthz() -> dict:
    return {"ok": True}


if __name__ == "__main__":
    # `python fastapi_users_app.py create-tables`: the setup step of bench.py.
    import asyncio
    import sys

    if sys.argv[1:] == ["create-tables"]:
        asyncio.run(create_db_and_tables())
