/**
 * The one HTML page. Everything it shows is built by the script from API
 * data; the page itself carries no user data, so it can be served to anyone.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Airlock</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/dashboard.css">
<script src="/assets/dashboard.js" defer></script>
</head>
<body>
<div id="app"><noscript>The Airlock dashboard needs JavaScript. The same view is in the terminal: airlock who --watch</noscript></div>
</body>
</html>
`;
