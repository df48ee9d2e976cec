// Shared by the console UI tests: sign in through the form, open a page from the
// navigation, fill a form by its labels.

const T = { timeout: 10_000 };

/** Signs in on the console's form (demo passwords equal usernames). */
export async function signIn(page, username, password = username) {
  await page.fill("#username", username);
  await page.fill("#password", password);
  await page.click("#login-form button[type=submit]");
  await page.locator("#nav a").first().waitFor(T);
}

/** Opens `title` from the navigation and waits for its heading. */
export async function openPage(page, title) {
  await page.getByRole("navigation", { name: "Console sections" }).getByRole("link", { name: title, exact: true }).click();
  await page.getByRole("heading", { name: title, level: 1 }).waitFor(T);
}
