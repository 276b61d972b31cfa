"""Password rules beyond Django's: at least three of four character classes (security.md)."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

__all__ = ["CharacterClassValidator"]


class CharacterClassValidator:
    def __init__(self, min_classes: int = 3) -> None:
        self.min_classes = min_classes

    def validate(self, password: str, user=None) -> None:
        classes = [any(c.islower() for c in password), any(c.isupper() for c in password),
                   any(c.isdigit() for c in password), any(not c.isalnum() for c in password)]
        if sum(classes) < self.min_classes:
            raise ValidationError(_("密码需要包含小写字母、大写字母、数字、符号中的至少三类"), code="password_classes")

    def get_help_text(self) -> str:
        return _("密码需要包含小写字母、大写字母、数字、符号中的至少三类")
