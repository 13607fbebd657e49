/** A pressable tile with a picture (or a letter) and a name: samples and quick styles. */

export function tile(id: string, name: string, src: string | null, pressed: boolean, onClick: () => void): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.dataset.id = id;
  b.title = name;
  b.setAttribute('aria-pressed', String(pressed));
  if (src) {
    const img = document.createElement('img');
    img.src = src;
    img.alt = '';
    img.loading = 'lazy';
    b.append(img);
  } else {
    const sw = document.createElement('span');
    sw.className = 'swatch';
    sw.textContent = name.slice(0, 1).toUpperCase();
    b.append(sw);
  }
  const label = document.createElement('span');
  label.textContent = name;
  b.append(label);
  b.addEventListener('click', onClick);
  return b;
}
