from django import forms

from accounts.models import User


class SignatureForm(forms.Form):
    """Re-authentication for a signed act (a decision, a sign-off, a countersignature).

    The signer types their password again, so a record says not only who was logged in but who
    was at the keyboard when it was signed.
    """

    password = forms.CharField(
        label="Your password, to sign",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, user: User, *args: object, **kwargs: object) -> None:
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That is not your password. Nothing was signed.")
        return password
