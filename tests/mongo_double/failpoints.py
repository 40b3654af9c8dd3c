"""failpoints.py -- mongod's test failpoints, as far as the MongoDB test double has them.

Owns: the configureFailPoint command and the two failpoints clients test
their error paths with on a real mongod (started with enableTestCommands):

- failCommand: the listed commands fail with errorCode (and errorLabels),
  or close the connection, or block for blockTimeMS first, optionally only
  for clients whose appName matches, or succeed with a writeConcernError;
- maxTimeAlwaysTimeOut: every command that carries maxTimeMS fails with
  MaxTimeMSExpired, which shows a client sends maxTimeMS.

Modes: "alwaysOn", "off", {times: n}, {skip: n}. The reply's count is how
often the failpoint fired before this call.
"""

from collections.abc import Mapping

from sessions import CommandError

KNOWN = ('failCommand', 'maxTimeAlwaysTimeOut')


class FailPoint(object):
    def __init__(self):
        self.mode, self.left, self.skip, self.data, self.fired = 'off', 0, 0, {}, 0

    def active(self):
        return self.mode == 'alwaysOn' or (self.mode == 'times' and self.left > 0) or \
            self.mode == 'skip'

    def fire(self):
        """Whether this occurrence fires (and counts it)."""
        if self.mode == 'skip' and self.skip > 0:
            self.skip -= 1
            return False
        if self.mode == 'times':
            self.left -= 1
            if self.left <= 0:
                self.mode = 'off'
        self.fired += 1
        return True


class FailPoints(object):
    def __init__(self):
        self.points = {name: FailPoint() for name in KNOWN}

    def configure(self, db, cmd):
        if db != 'admin':
            raise CommandError(13, 'configureFailPoint may only be run against the admin '
                                   'database.')
        name = cmd['configureFailPoint']
        if name not in self.points:
            raise CommandError(2, 'the mongo test double has no failpoint %r (it has %s)'
                               % (name, ', '.join(KNOWN)))
        mode, data = cmd.get('mode'), cmd.get('data') or {}
        if not isinstance(data, Mapping):
            raise CommandError(14, "'data' must be an object")
        fp = self.points[name]
        fired = fp.fired
        if mode == 'off':
            fp.mode = 'off'
        elif mode == 'alwaysOn':
            fp.mode = 'alwaysOn'
        elif isinstance(mode, Mapping) and list(mode) in (['times'], ['skip']):
            n = mode[next(iter(mode))]
            if not isinstance(n, int) or isinstance(n, bool) or n < 0:
                raise CommandError(2, "'%s' must be a non-negative integer" % next(iter(mode)))
            fp.mode = next(iter(mode))
            fp.left, fp.skip = (n, 0) if fp.mode == 'times' else (0, n)
            if fp.mode == 'times' and n == 0:
                fp.mode = 'off'
        else:
            raise CommandError(2, "mode must be 'alwaysOn', 'off', {times: n} or {skip: n}")
        if name == 'failCommand' and fp.mode != 'off':
            commands = data.get('failCommands')
            if not isinstance(commands, list) or not all(isinstance(c, str) for c in commands):
                raise CommandError(2, "failCommand needs data.failCommands, a list of command "
                                      'names')
        fp.data, fp.fired = dict(data), 0
        return {'count': fired}

    def fail_command(self, name, app):
        """The failCommand data when it fires for this command, else None."""
        fp = self.points['failCommand']
        if not fp.active() or name not in fp.data.get('failCommands', ()):
            return None
        if 'appName' in fp.data and fp.data['appName'] != app:
            return None
        return fp.data if fp.fire() else None

    def max_time_always_times_out(self):
        fp = self.points['maxTimeAlwaysTimeOut']
        return fp.active() and fp.fire()
