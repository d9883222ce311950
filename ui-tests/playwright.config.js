/**
 * Playwright configuration: Galata's defaults, Debian's Chromium (browsers cannot be
 * downloaded on CI machines), no video (it needs a downloaded ffmpeg), one worker.
 */
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');

// MLVC_UI_PORT lets two checkouts run their UI tests on one machine at once.
const port = process.env.MLVC_UI_PORT || '8888';

module.exports = {
  ...baseConfig,
  workers: 1,
  retries: process.env.CI ? 1 : 0,
  reporter: [[process.env.CI ? 'list' : 'line'], ['html', { open: 'never' }]],
  use: {
    ...baseConfig.use,
    baseURL: `http://127.0.0.1:${port}`,
    video: 'off',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--headless',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run'
      ]
    }
  },
  webServer: {
    command: `jlpm start --port=${port}`,
    url: `http://127.0.0.1:${port}/lab`,
    timeout: 120 * 1000,
    reuseExistingServer: !process.env.CI
  }
};
