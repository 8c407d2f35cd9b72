"""Every behavioural test here runs on both backends: the local folder and S3 (moto)."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["folder", "s3"])
def backend(request) -> str:
    return request.param


@pytest.fixture()
def resource(backend, request):
    name = "object_store_resource" if backend == "folder" else "s3_object_store_resource"
    return request.getfixturevalue(name)


@pytest.fixture()
def store(resource):
    return resource.outputs()
