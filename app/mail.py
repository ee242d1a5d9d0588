"""How the app's emails are written (app/notifications.py, app/followup.py)."""

from email import policy

#: RFC 5322's line limit (998) rather than the 78 that Python folds at, so that a header holding a
#: long address, such as the follow-ups' List-Unsubscribe with its 256-bit token, stays the plain
#: "<https://...>" RFC 8058 asks for instead of being RFC 2047 encoded, which mail programs do not
#: read as an unsubscribe address. Headers in other scripts (a Punjabi subject) are still encoded.
MAIL_POLICY = policy.SMTP.clone(max_line_length=998)
