"""``second_factor_pending`` for the templates: a user whose role needs the second factor and who has not passed
it yet. The top bar then shows no menu (each entry would lead back to the second-factor step, and the unread
badge it loads would be refused) — only the language and the logout."""


def second_factor(request):
    from access.middleware import otp_required

    user = getattr(request, "user", None)
    pending = bool(user is not None and user.is_authenticated
                   and not getattr(user, "is_verified", lambda: False)() and otp_required(user))
    return {"second_factor_pending": pending}
