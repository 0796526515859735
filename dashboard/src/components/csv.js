// A downloaded answer saved through a Blob link (the key never goes into a URL).
export async function saveResponse(response, fallbackName) {
  const disposition = response.headers.get("Content-Disposition") || "";
  const named = disposition.match(/filename="([^"]+)"/);
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = named ? named[1] : fallbackName;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
