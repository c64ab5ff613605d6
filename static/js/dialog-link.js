// A link marked data-dialog="id" opens that <dialog> instead of following the link; without
// JavaScript (or <dialog>) the link simply works.
for (const link of document.querySelectorAll("a[data-dialog]")) {
  const dialog = document.getElementById(link.dataset.dialog);
  if (!dialog || typeof dialog.showModal !== "function") continue;
  link.addEventListener("click", (event) => {
    event.preventDefault();
    dialog.showModal();
  });
  // Downloading closes the dialog: the file is on its way.
  for (const download of dialog.querySelectorAll("a[download]")) {
    download.addEventListener("click", () => dialog.close());
  }
}
