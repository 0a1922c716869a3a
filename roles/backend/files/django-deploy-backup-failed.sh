#!/bin/sh
# django-deploy-backup-failed UNIT [MAIL_TO]: the loud end of a failed backup (systemd OnFailure=).
set -u
unit="$1"
to="${2:-}"
echo "django-deploy-backup: $unit failed on $(hostname): see journalctl -u $unit" >&2
if [ -n "$to" ]; then
  if [ -x /usr/sbin/sendmail ]; then
    {
      printf 'To: %s\nSubject: [%s] backup failed: %s\n\n' "$to" "$(hostname)" "$unit"
      journalctl -u "$unit" -n 40 --no-pager -o short-iso
    } | /usr/sbin/sendmail -t && echo "django-deploy-backup: failure mailed to $to" >&2
  else
    echo "django-deploy-backup: no /usr/sbin/sendmail: failure not mailed to $to" >&2
  fi
fi
