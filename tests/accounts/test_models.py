import pytest
from django.db import IntegrityError

from accounts.models import User
from tests.factories import UserFactory


@pytest.mark.parametrize("role", [User.Role.LEARNER, User.Role.ASSESSOR, User.Role.IQA, User.Role.CENTRE_ADMIN])
def test_centre_roles_need_a_centre(db, role):
    with pytest.raises(IntegrityError):
        UserFactory(role=role, centre=None)


def test_an_eqa_works_across_centres(db):
    assert UserFactory(role=User.Role.EQA, centre=None).centre is None


def test_role_label(db):
    assert UserFactory(role=User.Role.IQA).role_label == "Internal quality assurer"
    assert UserFactory(role="", centre=None, is_staff=True).role_label == "Staff"
