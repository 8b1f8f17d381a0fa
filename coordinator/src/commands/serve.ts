import { Flags } from '@oclif/core';
import { DroverCommand } from '../cli/base-command.ts';
import { connectFromFlags, natsFlags } from '../cli/connection.ts';
import { loadForecasts, loadToken, startServe, TOKEN_ENV } from '../serve/index.ts';

export interface ServeResult {
  url: string;
}

export default class Serve extends DroverCommand<ServeResult> {
  static override summary =
    'Serve a read-only live page (fleet, plan runs, jobs, audit) with a WebSocket feed and /metrics.';
  static override description =
    `Connect it as the read-only NATS identity (VIEWER in deploy/nats/permissions.conf): it writes nothing to NATS. Access needs a token (--token-file or $${TOKEN_ENV}, at least 16 characters): open the printed URL with ?token=… once (it becomes an HttpOnly cookie), or send Authorization: Bearer … (scripts, Prometheus). --forecast FILE (repeatable) also shows a rehearsal's forecast (the JSON of drover rehearse run --json) as its timeline at /forecasts/NAME, NAME being the file's name without .json, listed at /forecasts. Runs until interrupted.`;
  static override examples = [
    '<%= config.bin %> serve --token-file ~/.config/drover/serve.token',
    `${TOKEN_ENV}=$(cat serve.token) <%= config.bin %> serve --port 8080`,
    '<%= config.bin %> rehearse run fleet.yaml --json > seed-fleet.json && <%= config.bin %> serve --token-file serve.token --forecast seed-fleet.json',
  ];
  static override flags = {
    ...natsFlags,
    host: Flags.string({
      summary: 'Interface to listen on (a public one exposes the page to the network).',
      default: '127.0.0.1',
    }),
    port: Flags.integer({ summary: 'Port (0: any free port).', default: 8080, min: 0, max: 65535 }),
    'token-file': Flags.string({ summary: `File holding the access token (first line); else $${TOKEN_ENV}.` }),
    forecast: Flags.string({
      multiple: true,
      summary:
        'A rehearsal forecast (drover rehearse run --json) to show at /forecasts/NAME (NAME: the file name without .json).',
    }),
  };

  async run(): Promise<ServeResult> {
    const { flags } = await this.parse(Serve);
    // Before connecting: without a token nothing may be served, and the operator hears it at once.
    const token = loadToken(flags['token-file']);
    // Checked before connecting too: a bad forecast file is named and nothing is served.
    const forecasts = loadForecasts(flags.forecast ?? []);
    // Read-only: it creates nothing, and runs as the shipped VIEWER identity (deploy/nats/permissions.conf).
    const d = await connectFromFlags(flags, { readOnly: true, inboxPrefix: '_INBOX_viewer' });
    const serving = await startServe(d, { host: flags.host, port: flags.port, token: token.value, forecasts });
    this.log(`drover serve: ${serving.url} (token from ${token.source})`);
    if (forecasts.size > 0)
      this.log(`forecasts: ${[...forecasts.keys()].map((name) => `${serving.url}forecasts/${name}`).join(', ')}`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await serving.close();
    await d.close();
    return { url: serving.url };
  }
}
