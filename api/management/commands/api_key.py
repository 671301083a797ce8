"""`manage.py api_key create|revoke|list`: API keys from the command line (a deploy script, a first PMS set-up).

`create` prints only the key on stdout, so `KEY=$(python manage.py api_key create ...)` works; anything else goes
to stderr."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from api import keys
from tenants.models import ApiKey, Organisation, Property


class Command(BaseCommand):
    help = "Create, revoke or list the API keys of an organisation."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="Make a key and print it (shown once).")
        create.add_argument("--organisation", required=True, help="The organisation's slug or id.")
        create.add_argument("--name", required=True, help="Who uses the key, e.g. the PMS.")
        create.add_argument(
            "--scope", action="append", dest="scopes", choices=sorted(ApiKey.Scope.values), default=None,
            help="A scope (repeat for several); default: read.",
        )  # fmt: skip
        create.add_argument("--property", action="append", dest="properties", type=int, help="Limit to a property id.")
        revoke = actions.add_parser("revoke", help="Revoke a key by its prefix (doors_xxxxxx) or id.")
        revoke.add_argument("key")
        listing = actions.add_parser("list", help="The organisation's keys (never their secrets).")
        listing.add_argument("--organisation", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create":
            organisation = self._organisation(options["organisation"])
            limit = None
            if options["properties"]:
                limit = list(Property.objects.filter(organisation=organisation, pk__in=options["properties"]))
                if len(limit) != len(set(options["properties"])):
                    raise CommandError("Every --property must be an id of a property of this organisation.")
            try:
                _, secret = keys.create_key(
                    organisation=organisation, name=options["name"], scopes=options["scopes"] or ["read"],
                    properties=limit,
                )  # fmt: skip
            except ValidationError as error:
                raise CommandError(" ".join(error.messages)) from None
            self.stdout.write(secret)
        elif action == "revoke":
            found = ApiKey.objects.filter(prefix=options["key"]) if not options["key"].isdigit() else None
            key = found.first() if found is not None else ApiKey.objects.filter(pk=int(options["key"])).first()
            if key is None:
                raise CommandError(f"No key {options['key']!r}.")
            keys.revoke_key(key)
            self.stderr.write(f"Revoked {key}.")
        else:
            for key in ApiKey.objects.filter(organisation=self._organisation(options["organisation"])):
                state = "revoked" if key.revoked_at else f"last used {key.last_used_at or 'never'}"
                self.stdout.write(f"{key.pk}\t{key.prefix}…\t{key.name}\t{','.join(key.scopes)}\t{state}")

    @staticmethod
    def _organisation(value: str) -> Organisation:
        found = Organisation.objects.filter(slug=value).first()
        if found is None and value.isdigit():
            found = Organisation.objects.filter(pk=int(value)).first()
        if found is None:
            raise CommandError(f"No organisation with slug or id {value!r}.")
        return found
