"""Forms of the place pages. They only collect input: places.services validates and saves."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from places.choices import HouseUse

__all__ = ["HouseForm"]


class HouseForm(forms.Form):
    use = forms.ChoiceField(label=_("用途"), choices=HouseUse.choices, widget=forms.RadioSelect)
    area = forms.DecimalField(label=_("面积(㎡)"), required=False, max_digits=7, decimal_places=2, min_value=0)
    note = forms.CharField(label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    version = forms.IntegerField(widget=forms.HiddenInput)
